// Test-only stand-in for OpenVINO's openvino/core/visibility.hpp: just enough declarations for
// OpenVINO GenAI's public headers (from its source tree) and our OpenVINO unit to compile, so
// scripts/check_openvino_api.sh --headers-only can check our calls against GenAI's real
// signatures where OpenVINO is not installed. Declarations only: nothing links against it.
#pragma once
#define OPENVINO_CORE_EXPORTS __attribute__((visibility("default")))
#define OPENVINO_CORE_IMPORTS __attribute__((visibility("default")))
#define OPENVINO_API __attribute__((visibility("default")))
#define OPENVINO_DEPRECATED(msg) [[deprecated(msg)]]
#define OPENVINO_ENUM_DEPRECATED(msg) [[deprecated(msg)]]
#define OPENVINO_SUPPRESS_DEPRECATED_START
#define OPENVINO_SUPPRESS_DEPRECATED_END
