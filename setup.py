# The setuptools shim behind pyproject.toml: `pip install .` builds the qwen3_runtime
# extension with the project's own CMake (target qwen3_runtime_python) and copies it into
# the wheel, so pip and `cmake --install` ship the same module. The version comes from
# CMakeLists.txt's project(), its one source.
#   QWEN3_PIP_BUILD_DIR  the CMake build folder to use (default: setuptools' build_temp);
#                        an existing configured tree makes the build incremental
#   CMAKE_BUILD_PARALLEL_LEVEL  compile jobs (default: all cores)
import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

SOURCE = pathlib.Path(__file__).parent.resolve()


def cmake_version():
    text = (SOURCE / "CMakeLists.txt").read_text()
    m = re.search(r"project\(\s*\w+\s+VERSION\s+([0-9.]+)", text)
    if not m:
        raise RuntimeError("CMakeLists.txt: no project(... VERSION x.y.z)")
    return m.group(1)


class CMakeExtension(Extension):
    def __init__(self, name):
        super().__init__(name, sources=[])


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build = pathlib.Path(os.environ.get("QWEN3_PIP_BUILD_DIR") or
                             pathlib.Path(self.build_temp) / "cmake").resolve()
        subprocess.run(["cmake", "-S", str(SOURCE), "-B", str(build),
                        "-DCMAKE_BUILD_TYPE=Release", "-DQWEN3_PYTHON=ON",
                        "-DPython_EXECUTABLE=" + sys.executable],
                       check=True)
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 1))
        subprocess.run(["cmake", "--build", str(build), "--target", "qwen3_runtime_python",
                        "-j", jobs], check=True)
        built = sorted((build / "python").glob("qwen3_runtime*.so"))
        if not built:
            raise RuntimeError(f"{build}/python: CMake built no qwen3_runtime module")
        dest = pathlib.Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[0], dest)


setup(version=cmake_version(), ext_modules=[CMakeExtension("qwen3_runtime")],
      cmdclass={"build_ext": CMakeBuild})
