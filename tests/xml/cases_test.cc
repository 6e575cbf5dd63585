// Every file under tests/data/xml: valid/ files must parse and round-trip
// (parse -> format -> parse is a fixed point, and formatting is idempotent);
// invalid/ files must fail with the message their first line announces:
//   <!-- expect: <substring of the error> [; form: live] -->
// A valid file whose first comment says "form: live" is read as live XML.
// Add a case by adding a file; no code change needed.
#include <filesystem>
#include <fstream>
#include <sstream>

#include "xml_test_util.h"

namespace seclabel {
namespace {

namespace fs = std::filesystem;

const fs::path kCaseDir = fs::path(SECLABEL_SOURCE_DIR) / "tests/data/xml";

std::string readFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string firstLine(const std::string& text) { return text.substr(0, text.find('\n')); }

XmlForm formOf(const std::string& text) {
  return firstLine(text).find("form: live") != std::string::npos ? XmlForm::Live : XmlForm::Inactive;
}

// The substring announced by "<!-- expect: ... -->" on the first line.
std::string expectedError(const std::string& text) {
  std::string line = firstLine(text);
  const std::string marker = "<!-- expect: ";
  if (line.rfind(marker, 0) != 0) return {};
  std::string expected = line.substr(marker.size());
  for (const std::string& tail : {std::string(" -->"), std::string(" ; form: live")}) {
    if (expected.size() >= tail.size() && expected.ends_with(tail)) {
      expected.resize(expected.size() - tail.size());
    }
  }
  return expected;
}

std::vector<std::string> caseNames(const std::string& kind) {
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(kCaseDir / kind)) {
    if (entry.path().extension() == ".xml") names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::string testName(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param.substr(0, info.param.size() - 4);
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

class ValidCase : public ::testing::TestWithParam<std::string> {};

TEST_P(ValidCase, ParsesAndRoundTrips) {
  fs::path path = kCaseDir / "valid" / GetParam();
  std::string text = readFile(path);
  XmlForm form = formOf(text);
  Domain first = parseDomainFile(path.string(), form);
  std::string formatted = formatDomainXml(first, form);
  Domain second = parseDomainXml(formatted, form);
  testing::expectSameModel(second, first);
  EXPECT_FALSE(second.uuidGenerated) << "the generated uuid must be written";
  EXPECT_EQ(formatDomainXml(second, form), formatted) << "formatting is not idempotent";
}

INSTANTIATE_TEST_SUITE_P(Files, ValidCase, ::testing::ValuesIn(caseNames("valid")), testName);

class InvalidCase : public ::testing::TestWithParam<std::string> {};

TEST_P(InvalidCase, FailsWithItsAnnouncedMessage) {
  fs::path path = kCaseDir / "invalid" / GetParam();
  std::string text = readFile(path);
  std::string expected = expectedError(text);
  ASSERT_FALSE(expected.empty()) << path << " has no '<!-- expect: ... -->' first line";
  EXPECT_INVALID_INPUT(parseDomainFile(path.string(), formOf(text)), path.string() + ": ");
  EXPECT_INVALID_INPUT(parseDomainFile(path.string(), formOf(text)), expected);
}

INSTANTIATE_TEST_SUITE_P(Files, InvalidCase, ::testing::ValuesIn(caseNames("invalid")), testName);

TEST(CaseFiles, AtLeastFortyCasesExist) {
  EXPECT_GE(caseNames("valid").size() + caseNames("invalid").size(), 40u);
  EXPECT_GE(caseNames("valid").size(), 20u);
  EXPECT_GE(caseNames("invalid").size(), 20u);
}

TEST(CaseFiles, FullLibvirtDomainKeepsEveryUnmodelledLine) {
  fs::path path = kCaseDir / "valid/full-libvirt-domain.xml";
  std::string original = readFile(path);
  std::string formatted = formatDomainXml(parseDomainFile(path.string()), XmlForm::Inactive);
  // Only the declaration's quote style may change (pugixml writes single quotes).
  std::string expected = original;
  expected.replace(0, firstLine(original).size(), "<?xml version='1.0' encoding='UTF-8'?>");
  EXPECT_EQ(formatted, expected);
}

}  // namespace
}  // namespace seclabel
