// Helpers shared by the xml/ tests.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "core/error.h"
#include "xml/xml.h"

namespace seclabel::testing {

// Asserts that `statement` throws Error(InvalidInput) whose message contains
// `expected`.
#define EXPECT_INVALID_INPUT(statement, expected)                                 \
  do {                                                                            \
    try {                                                                         \
      statement;                                                                  \
      ADD_FAILURE() << "no error thrown; expected: " << (expected);               \
    } catch (const ::seclabel::Error& e) {                                        \
      EXPECT_EQ(e.code(), ::seclabel::ExitCode::InvalidInput) << e.what();        \
      EXPECT_THAT(std::string(e.what()), ::testing::HasSubstr(expected));         \
    }                                                                             \
  } while (0)

// A domain document with `body` inside <domain type='kvm'>, after name/uuid.
inline std::string domainXml(const std::string& body) {
  return "<domain type='kvm'>\n  <name>guest</name>\n"
         "  <uuid>c7a5fdbd-edaf-9455-926a-d65c16db1809</uuid>\n" +
         body + "</domain>\n";
}

// One file disk at /i/a.img (target vda) whose <source> holds `sourceBody`.
inline std::string diskXml(const std::string& sourceBody, const std::string& diskBody = "") {
  return domainXml("  <devices>\n    <disk type='file'>\n      <source file='/i/a.img'>" +
                   sourceBody + "</source>\n      <target dev='vda'/>\n" + diskBody +
                   "    </disk>\n  </devices>\n");
}

// Every modelled field (not the document).
inline void expectSameModel(const Domain& a, const Domain& b) {
  EXPECT_EQ(a.type, b.type);
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.uuid, b.uuid);
  EXPECT_EQ(a.seclabels, b.seclabels);
  EXPECT_EQ(a.disks, b.disks);
  EXPECT_EQ(a.kernel, b.kernel);
  EXPECT_EQ(a.initrd, b.initrd);
  EXPECT_EQ(a.chardevs, b.chardevs);
  EXPECT_EQ(a.interfaces, b.interfaces);
}

}  // namespace seclabel::testing
