# The installable library: libqwen3 (shared and static) made of the runtime layers (C API,
# engine, device, vision, model, text, kernels, GGUF; not the server, the Hub client or
# the CLI),
# the public headers of include/qwen3/, CMake package files (find_package(qwen3) ->
# qwen3::qwen3, qwen3::qwen3_static) and a pkg-config file. Why one library: a consumer
# links one file and sees only include/; the layer archives stay an internal detail.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(QWEN3_LIB_LAYERS qwen3_capi qwen3_engine qwen3_device qwen3_vision qwen3_model qwen3_text
                     qwen3_kernels qwen3_gguf)
if(TARGET qwen3_openvino)
  list(APPEND QWEN3_LIB_LAYERS qwen3_openvino)
endif()
set(layer_files "")
foreach(l ${QWEN3_LIB_LAYERS})
  list(APPEND layer_files "$<TARGET_FILE:${l}>")
endforeach()

# Shared: every layer archive whole, so all public symbols are in the .so.
file(WRITE ${CMAKE_BINARY_DIR}/generated/qwen3_shared_anchor.cpp
     "// Anchor source of libqwen3.so; the code comes from the layer archives.\n")
add_library(qwen3_shared SHARED ${CMAKE_BINARY_DIR}/generated/qwen3_shared_anchor.cpp)
add_dependencies(qwen3_shared ${QWEN3_LIB_LAYERS})
target_link_libraries(qwen3_shared PRIVATE -Wl,--whole-archive ${layer_files}
                      -Wl,--no-whole-archive PkgConfig::UTF8PROC JPEG::JPEG PNG::PNG
                      PkgConfig::WEBP Threads::Threads)
if(TARGET qwen3_openvino)
  target_link_libraries(qwen3_shared PRIVATE openvino::genai)
endif()
set_target_properties(qwen3_shared PROPERTIES OUTPUT_NAME qwen3 VERSION ${PROJECT_VERSION}
                      SOVERSION ${PROJECT_VERSION_MAJOR}
                      LINK_DEPENDS "${layer_files}")
target_include_directories(qwen3_shared INTERFACE ${CMAKE_SOURCE_DIR}/include)

# Static: the layer archives merged into one libqwen3.a (ar's MRI script).
set(static_lib ${CMAKE_BINARY_DIR}/lib/libqwen3.a)
set(mri "create ${static_lib}\n")
foreach(f ${layer_files})
  string(APPEND mri "addlib ${f}\n")
endforeach()
string(APPEND mri "save\nend\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/generated/qwen3_static.mri CONTENT "${mri}")
add_custom_command(
  OUTPUT ${static_lib}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/lib
  COMMAND ${CMAKE_COMMAND} -E rm -f ${static_lib}
  COMMAND sh -c "\"${CMAKE_AR}\" -M < \"${CMAKE_BINARY_DIR}/generated/qwen3_static.mri\""
  DEPENDS ${QWEN3_LIB_LAYERS} ${CMAKE_BINARY_DIR}/generated/qwen3_static.mri
  COMMENT "Merging the layer archives into libqwen3.a"
  VERBATIM)
add_custom_target(qwen3_static ALL DEPENDS ${static_lib})

install(TARGETS qwen3_shared LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(FILES ${static_lib} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/qwen3 DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")
install(TARGETS qwen3 RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

set(QWEN3_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/qwen3)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/qwen3Config.cmake.in
                              ${CMAKE_BINARY_DIR}/generated/qwen3Config.cmake
                              INSTALL_DESTINATION ${QWEN3_CMAKE_DIR}
                              PATH_VARS CMAKE_INSTALL_LIBDIR CMAKE_INSTALL_INCLUDEDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/generated/qwen3ConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/generated/qwen3Config.cmake
              ${CMAKE_BINARY_DIR}/generated/qwen3ConfigVersion.cmake
        DESTINATION ${QWEN3_CMAKE_DIR})

# pkg-config: the prefix is found from the .pc file's own place, so --prefix works.
file(RELATIVE_PATH QWEN3_PC_TO_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
configure_file(${CMAKE_SOURCE_DIR}/cmake/qwen3.pc.in ${CMAKE_BINARY_DIR}/generated/qwen3.pc @ONLY)
install(FILES ${CMAKE_BINARY_DIR}/generated/qwen3.pc
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
