# The Python module qwen3_runtime (bindings/python/), built where pybind11 and Python's
# headers are installed (Debian: pybind11-dev, python3-dev). It is written to
# <build>/python/ so tests import it from the build tree, and `cmake --install` puts it in
# Python's package folder under the install prefix (QWEN3_PYTHON_INSTALL_DIR).
set(QWEN3_PYTHON AUTO CACHE STRING "Build the Python module: AUTO, ON or OFF")
if(NOT QWEN3_PYTHON STREQUAL "OFF")
  # Debian's interpreter first: its python3-pytest runs the module's tests.
  if(NOT Python_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python 3.8 COMPONENTS Interpreter Development.Module QUIET)
  if(Python_FOUND)
    set(PYBIND11_FINDPYTHON ON)
    find_package(pybind11 2.6 CONFIG QUIET)
  endif()
  if(Python_FOUND AND pybind11_FOUND)
    pybind11_add_module(qwen3_runtime_python ${CMAKE_SOURCE_DIR}/bindings/python/qwen3_runtime_module.cpp)
    target_link_libraries(qwen3_runtime_python PRIVATE qwen3_capi qwen3_engine)
    set_target_properties(qwen3_runtime_python PROPERTIES OUTPUT_NAME qwen3_runtime
                          LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/python)
    execute_process(COMMAND ${Python_EXECUTABLE} -c
                            "import sysconfig; print(sysconfig.get_path('platlib'))"
                    OUTPUT_VARIABLE py_platlib OUTPUT_STRIP_TRAILING_WHITESPACE)
    if(py_platlib MATCHES "dist-packages$")
      set(py_leaf dist-packages)
    else()
      set(py_leaf site-packages)
    endif()
    set(QWEN3_PYTHON_INSTALL_DIR
        "${CMAKE_INSTALL_LIBDIR}/python${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}/${py_leaf}"
        CACHE STRING "Where cmake --install puts the Python module (relative to the prefix)")
    install(TARGETS qwen3_runtime_python LIBRARY DESTINATION ${QWEN3_PYTHON_INSTALL_DIR})
    set(QWEN3_PYTHON_BUILT ON)
  elseif(QWEN3_PYTHON STREQUAL "ON")
    message(FATAL_ERROR "QWEN3_PYTHON=ON but Python headers or pybind11 were not found "
                        "(Debian: apt-get install python3-dev pybind11-dev)")
  else()
    message(STATUS "Python module: not built (needs python3-dev and pybind11-dev)")
  endif()
endif()
