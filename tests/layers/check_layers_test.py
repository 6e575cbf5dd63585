#!/usr/bin/env python3
"""scripts/check-layers catches what it is meant to catch.

Each case copies the layers of the source tree (and layers.txt) into a
temporary directory, checks that the copy passes, makes one deliberate
violation, and expects the checker to fail with a line naming it.

    check_layers_test.py SOURCE_DIR
"""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = None


def run_checker(root):
    checker = os.path.join(SOURCE_DIR, "scripts", "check-layers")
    result = subprocess.run([sys.executable, checker, root], capture_output=True, text=True)
    return result.returncode, result.stdout + result.stderr


class LayerCheck(unittest.TestCase):
    def setUp(self):
        self.temp = tempfile.TemporaryDirectory(prefix="check-layers-")
        self.root = os.path.join(self.temp.name, "tree")
        ignore = shutil.ignore_patterns(".git", "build*", "tests", "bench", "docs", "examples",
                                        "packaging")
        shutil.copytree(SOURCE_DIR, self.root, ignore=ignore, symlinks=True)
        status, output = run_checker(self.root)
        self.assertEqual(status, 0, "the unchanged copy must pass:\n" + output)

    def tearDown(self):
        self.temp.cleanup()

    def append(self, relative, text):
        with open(os.path.join(self.root, relative), "a", encoding="utf-8") as file:
            file.write(text)

    def replace(self, relative, old, new):
        path = os.path.join(self.root, relative)
        with open(path, encoding="utf-8") as file:
            text = file.read()
        self.assertIn(old, text)
        with open(path, "w", encoding="utf-8") as file:
            file.write(text.replace(old, new, 1))

    def line_count(self, relative):
        with open(os.path.join(self.root, relative), encoding="utf-8") as file:
            return sum(1 for _ in file)

    def assertFailsWith(self, expected):
        status, output = run_checker(self.root)
        self.assertEqual(status, 1, output)
        self.assertIn(expected, output)
        self.assertIn("violation(s) of layers.txt", output)

    def test_core_including_launcher_fails(self):
        self.append("core/error.h", '#include "launcher/launcher.h"\n')
        line = self.line_count("core/error.h")
        self.assertFailsWith(f'core/error.h:{line}: core includes "launcher/launcher.h", of '
                             "layer launcher, which layers.txt does not let core use")

    def test_audit_including_secdriver_from_a_source_fails(self):
        self.append("audit/audit_sinks.cc", '#include "secdriver/manager.h"\n')
        self.assertFailsWith('audit includes "secdriver/manager.h", of layer secdriver')

    def test_sibling_layers_may_not_include_each_other(self):
        self.append("net/tun_device.cc", '#include "process/process.h"\n')
        self.assertFailsWith('net includes "process/process.h", of layer process')

    def test_tools_may_not_reach_process_past_launcher(self):
        self.append("tools/cmd_launch.cc", '#include "process/process_spawn.h"\n')
        self.assertFailsWith('tools includes "process/process_spawn.h", of layer process')

    def test_a_layer_below_the_public_header_may_not_include_it(self):
        self.append("launcher/version.cc", "#include <seclabel/seclabel.h>\n")
        self.assertFailsWith("launcher includes <seclabel/seclabel.h>, of layer include")

    def test_including_a_folder_that_is_not_a_layer_fails(self):
        self.append("xml/domain.cc", '#include "tests/core/hostile_files.h"\n')
        self.assertFailsWith('xml includes "tests/core/hostile_files.h", from tests/, '
                             "which is not a layer")

    def test_linking_a_layer_above_fails(self):
        self.replace("xml/CMakeLists.txt", "PUBLIC seclabel_core", "PUBLIC seclabel_core seclabel_alloc")
        self.assertFailsWith("xml/CMakeLists.txt:")
        self.assertFailsWith("seclabel_xml links seclabel_alloc, of layer alloc, which "
                             "layers.txt does not let xml use")

    def test_linking_a_layer_nothing_includes_fails(self):
        # A new layer that may use xml/ and links it, but includes only core/.
        self.append("layers.txt", "extra: core xml\n")
        os.makedirs(os.path.join(self.root, "extra"))
        self.append("extra/extra.cc", '#include "core/error.h"\n')
        self.append("extra/CMakeLists.txt", "add_library(seclabel_extra STATIC extra.cc)\n"
                    "target_link_libraries(seclabel_extra PRIVATE seclabel_core seclabel_xml)\n")
        self.assertFailsWith("extra/CMakeLists.txt:2: seclabel_extra links seclabel_xml, but no "
                             "file of extra/ includes anything of xml/")

    def test_public_link_used_only_by_sources_fails(self):
        # A new layer whose header includes only core/, its source xml/.
        self.append("layers.txt", "extra: core xml\n")
        os.makedirs(os.path.join(self.root, "extra"))
        self.append("extra/extra.h", '#include "core/error.h"\n')
        self.append("extra/extra.cc", '#include "extra/extra.h"\n#include "xml/xml.h"\n')
        self.append("extra/CMakeLists.txt", "add_library(seclabel_extra STATIC extra.cc)\n"
                    "target_link_libraries(seclabel_extra seclabel_core seclabel_xml)\n")
        self.assertFailsWith("seclabel_extra links seclabel_xml PUBLIC, but only .cc "
                             "files of extra/ include xml/: link it PRIVATE")

    def test_table_naming_a_layer_above_fails(self):
        self.replace("layers.txt", "\ncore:\n", "\ncore: launcher\n")
        self.assertFailsWith("core uses launcher, a layer listed below it")

    def test_folder_with_sources_outside_the_table_fails(self):
        os.makedirs(os.path.join(self.root, "vm"))
        self.append("vm/monitor.cc", '#include "core/error.h"\n')
        self.assertFailsWith("vm/: holds sources but is not in layers.txt")


if __name__ == "__main__":
    SOURCE_DIR = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
