#include "qwen3/streamer.h"

#include "common/enum_names.h"

namespace qwen3 {

constexpr NamedValue<FinishReason> kFinishReasonNames[] = {{FinishReason::kStop, "stop"},
                                                           {FinishReason::kLength, "length"},
                                                           {FinishReason::kToolCalls, "tool_calls"},
                                                           {FinishReason::kCancelled, "cancelled"}};

const char* to_string(FinishReason r) {
  return name_of(kFinishReasonNames, r, "stop");
}

}  // namespace qwen3
