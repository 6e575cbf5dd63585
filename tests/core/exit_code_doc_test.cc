// One table of exit codes: core/error.h's ExitCode, and seclabel(1)'s EXIT
// STATUS section lists exactly its values.
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include "core/error.h"

namespace seclabel {
namespace {

// Every enumerator, by a switch without default: -Wswitch (-Wall) names an
// enumerator added to ExitCode and missing here.
bool isExitCode(ExitCode code) {
  switch (code) {
    case ExitCode::Ok:
    case ExitCode::Failed:
    case ExitCode::InvalidInput:
    case ExitCode::NoIdentity:
    case ExitCode::PermissionDenied:
    case ExitCode::CannotExecute:
    case ExitCode::CommandNotFound:
      return true;
  }
  return false;
}

// The numbers of the `.B N` (or `.B N, M`) tags of the EXIT STATUS section.
std::set<int> documentedExitCodes() {
  std::ifstream page(std::string(SECLABEL_SOURCE_DIR) + "/docs/seclabel.1");
  EXPECT_TRUE(page) << "docs/seclabel.1 not readable";
  std::set<int> codes;
  bool inSection = false;
  bool tag = false;
  for (std::string line; std::getline(page, line);) {
    if (line.rfind(".SH ", 0) == 0) {
      inSection = line == ".SH EXIT STATUS";
      continue;
    }
    if (!inSection) continue;
    if (line == ".TP") {
      tag = true;
      continue;
    }
    if (tag) {
      static const std::regex kTag(R"(^\.B ([0-9]+(, [0-9]+)*)$)");
      std::smatch match;
      EXPECT_TRUE(std::regex_match(line, match, kTag)) << "unexpected tag line: " << line;
      std::istringstream numbers(match[1].str());
      for (std::string number; std::getline(numbers, number, ',');) codes.insert(std::stoi(number));
      tag = false;
    }
  }
  return codes;
}

TEST(ExitCodeTable, ManPageListsExactlyTheEnumValues) {
  std::set<int> inCode;
  for (int value = 0; value <= 255; ++value)
    if (isExitCode(static_cast<ExitCode>(value))) inCode.insert(value);
  const std::set<int> documented = documentedExitCodes();
  EXPECT_EQ(documented, inCode);
  EXPECT_EQ(inCode.size(), 7u);
}

TEST(ExitCodeTable, ConflictIsTheNoIdentityCodeTheManPageDescribes) {
  // seclabel(1): 3 is "no free identity, or a conflict".
  EXPECT_EQ(Error::conflict("x").code(), ExitCode::NoIdentity);
  EXPECT_EQ(Error::invalidInput("x").exitCode(), 2);
}

}  // namespace
}  // namespace seclabel
