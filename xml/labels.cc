#include "xml/labels.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/error.h"
#include "core/nss.h"

namespace seclabel {

namespace {

std::string quoted(std::string_view text) { return "'" + std::string(text) + "'"; }

bool isDigit(char c) { return c >= '0' && c <= '9'; }

// Decimal digits only, no sign, fits in uint32. `canonical` also refuses a
// leading zero: "c01" is not the category c1 to the kernel.
std::optional<uint32_t> parseDecimal(std::string_view digits, bool canonical) {
  if (digits.empty() || digits.size() > 64) return std::nullopt;
  for (char c : digits) {
    if (!isDigit(c)) return std::nullopt;
  }
  if (canonical && digits.size() > 1 && digits[0] == '0') return std::nullopt;
  uint64_t value = 0;
  for (char c : digits) {
    value = value * 10 + static_cast<uint64_t>(c - '0');
    if (value > std::numeric_limits<uint32_t>::max()) return std::nullopt;
  }
  return static_cast<uint32_t>(value);
}

std::optional<uint32_t> parseCanonicalNumber(std::string_view digits) {
  return parseDecimal(digits, true);
}

// ---- DAC -------------------------------------------------------------------

// A user or group name as NSS may know it: printable, no space, no ':' (the
// separator), not starting with '-' or '+' (options / numeric marker).
void checkDacName(std::string_view name, std::string_view side, std::string_view label) {
  for (char c : name) {
    auto uc = static_cast<unsigned char>(c);
    if (uc <= 0x20 || uc == 0x7f || c == '/' || c == ',') {
      throw Error::invalidInput("DAC label " + quoted(label) + ": " + std::string(side) +
                                " name " + quoted(name) + " contains an invalid character");
    }
  }
  if (name[0] == '-') {
    bool number = name.size() > 1;
    for (char c : name.substr(1)) number = number && isDigit(c);
    throw Error::invalidInput("DAC label " + quoted(label) + ": " + std::string(side) + " " +
                              quoted(name) + (number ? " is negative" : " is not a valid name"));
  }
}

DacId parseDacId(std::string_view text, std::string_view side, std::string_view label) {
  if (text.empty()) {
    throw Error::invalidInput("DAC label " + quoted(label) + ": the " + std::string(side) +
                              " is empty (expected user:group or +uid:+gid)");
  }
  bool plus = text[0] == '+';
  std::string_view digits = plus ? text.substr(1) : text;
  bool allDigits = !digits.empty();
  for (char c : digits) allDigits = allDigits && isDigit(c);
  if (!plus && !allDigits) {
    checkDacName(text, side, label);
    return DacId{std::nullopt, std::string(text)};
  }
  if (plus && !digits.empty() && digits[0] == '-') {
    throw Error::invalidInput("DAC label " + quoted(label) + ": " + std::string(side) + " " +
                              quoted(text) + " is negative");
  }
  if (!allDigits) {
    throw Error::invalidInput("DAC label " + quoted(label) + ": " + std::string(side) + " " +
                              quoted(text) + " is not a number");
  }
  auto value = parseDecimal(digits, false);
  if (!value) {
    throw Error::invalidInput("DAC label " + quoted(label) + ": " + std::string(side) + " " +
                              quoted(text) + " is out of range");
  }
  // (uid_t)-1 means "leave unchanged" to chown and setresuid: never an identity.
  if (*value == std::numeric_limits<uint32_t>::max()) {
    throw Error::invalidInput("DAC label " + quoted(label) + ": " + std::string(side) +
                              " 4294967295 is reserved (" +
                              (side == "user" ? "(uid_t)-1" : "(gid_t)-1") +
                              " means 'unchanged')");
  }
  return DacId{value, {}};
}

// ---- MLS ---------------------------------------------------------------------

struct CategoryInterval {
  uint32_t low;
  uint32_t high;
};

struct MlsLevel {
  uint32_t sensitivity = 0;
  std::vector<CategoryInterval> categories;  // ascending, disjoint
};

[[noreturn]] void badLevel(std::string_view range, const std::string& why) {
  throw Error::invalidInput("MLS range " + quoted(range) + ": " + why);
}

uint32_t parsePrefixedNumber(std::string_view text, char prefix, std::string_view range,
                             const char* what) {
  if (text.empty() || text[0] != prefix) {
    badLevel(range, quoted(text) + " is not a " + what + " (expected " + prefix + "N)");
  }
  auto value = parseCanonicalNumber(text.substr(1));
  if (!value) badLevel(range, quoted(text) + " is not a " + what + " (expected " + prefix + "N)");
  return *value;
}

MlsLevel parseMlsLevel(std::string_view level, std::string_view range) {
  MlsLevel parsed;
  auto colon = level.find(':');
  parsed.sensitivity =
      parsePrefixedNumber(level.substr(0, colon), 's', range, "sensitivity");
  if (colon == std::string_view::npos) return parsed;
  std::string_view cats = level.substr(colon + 1);
  if (cats.empty()) badLevel(range, "empty category set after ':'");
  while (true) {
    auto comma = cats.find(',');
    std::string_view item = cats.substr(0, comma);
    auto dot = item.find('.');
    CategoryInterval interval{};
    interval.low = parsePrefixedNumber(item.substr(0, dot), 'c', range, "category");
    interval.high = interval.low;
    if (dot != std::string_view::npos) {
      interval.high = parsePrefixedNumber(item.substr(dot + 1), 'c', range, "category");
      if (interval.high <= interval.low) {
        badLevel(range, "category range " + quoted(item) + " must go upwards");
      }
    }
    if (!parsed.categories.empty() && interval.low <= parsed.categories.back().high) {
      badLevel(range, "categories must be listed once each, in ascending order");
    }
    parsed.categories.push_back(interval);
    if (comma == std::string_view::npos) break;
    cats = cats.substr(comma + 1);
  }
  return parsed;
}

// True when every category of `low` is also in `high`.
bool categoriesCovered(const MlsLevel& low, const MlsLevel& high) {
  for (const auto& need : low.categories) {
    bool covered = false;
    for (const auto& have : high.categories) {
      if (have.low <= need.low && need.high <= have.high) {
        covered = true;
        break;
      }
    }
    if (!covered) return false;
  }
  return true;
}

// ---- SELinux context -----------------------------------------------------------

void checkSelinuxIdentifier(std::string_view part, const char* what, std::string_view label) {
  if (part.empty()) {
    throw Error::invalidInput("SELinux label " + quoted(label) + ": the " + what + " is empty");
  }
  for (char c : part) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || isDigit(c) || c == '_' ||
              c == '.' || c == '-';
    if (!ok) {
      throw Error::invalidInput("SELinux label " + quoted(label) + ": " + what + " " +
                                quoted(part) + " contains an invalid character");
    }
  }
}

}  // namespace

void checkLabelText(std::string_view text, std::string_view what) {
  if (text.empty()) throw Error::invalidInput(std::string(what) + " is empty");
  if (text.size() > kMaxLabelLength) {
    throw Error::invalidInput(std::string(what) + " is " + std::to_string(text.size()) +
                              " bytes long, more than the limit of " +
                              std::to_string(kMaxLabelLength));
  }
  for (char c : text) {
    auto uc = static_cast<unsigned char>(c);
    if (uc < 0x20 || uc == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", uc);
      throw Error::invalidInput(std::string(what) + " contains the control character " + hex);
    }
  }
}

DacLabelSpec DacLabelSpec::parse(std::string_view text) {
  checkLabelText(text, "DAC label");
  auto colon = text.find(':');
  if (colon == std::string_view::npos || text.find(':', colon + 1) != std::string_view::npos) {
    throw Error::invalidInput("DAC label " + quoted(text) +
                              " is not user:group or +uid:+gid");
  }
  DacLabelSpec spec;
  spec.user = parseDacId(text.substr(0, colon), "user", text);
  spec.group = parseDacId(text.substr(colon + 1), "group", text);
  return spec;
}

DacLabel DacLabel::parse(std::string_view text) { return resolve(DacLabelSpec::parse(text)); }

DacLabel DacLabel::resolve(const DacLabelSpec& spec) {
  DacLabel label;
  if (spec.user.number) {
    label.uid = *spec.user.number;
  } else if (auto uid = userIdByName(spec.user.name)) {
    label.uid = *uid;
  } else {
    throw Error::invalidInput("DAC label: no such user '" + spec.user.name + "'");
  }
  if (spec.group.number) {
    label.gid = *spec.group.number;
  } else if (auto gid = groupIdByName(spec.group.name)) {
    label.gid = *gid;
  } else {
    throw Error::invalidInput("DAC label: no such group '" + spec.group.name + "'");
  }
  return label;
}

std::string DacLabel::format() const {
  return "+" + std::to_string(uid) + ":+" + std::to_string(gid);
}

McsPair::McsPair(uint32_t first, uint32_t second) : first_(first), second_(second) {
  if (first >= second) {
    throw Error::invalidInput("MCS category pair c" + std::to_string(first) + ",c" +
                              std::to_string(second) + " must have the first below the second");
  }
}

std::string McsPair::format() const {
  return "c" + std::to_string(first_) + ",c" + std::to_string(second_);
}

void checkMlsRange(std::string_view range) {
  if (range.empty()) throw Error::invalidInput("MLS range is empty");
  if (range.size() > kMaxLabelLength) {
    throw Error::invalidInput("MLS range is longer than " + std::to_string(kMaxLabelLength) +
                              " bytes");
  }
  auto dash = range.find('-');
  MlsLevel low = parseMlsLevel(range.substr(0, dash), range);
  if (dash == std::string_view::npos) return;
  MlsLevel high = parseMlsLevel(range.substr(dash + 1), range);
  if (high.sensitivity < low.sensitivity || !categoriesCovered(low, high)) {
    badLevel(range, "the high level does not dominate the low level");
  }
}

SelinuxContext SelinuxContext::parse(std::string_view text) {
  checkLabelText(text, "SELinux label");
  SelinuxContext context;
  std::string_view rest = text;
  std::string* parts[] = {&context.user, &context.role, &context.type};
  const char* names[] = {"user", "role", "type"};
  for (int i = 0; i < 3; ++i) {
    auto colon = rest.find(':');
    if (colon == std::string_view::npos) {
      throw Error::invalidInput("SELinux label " + quoted(text) +
                                " is not user:role:type:level");
    }
    checkSelinuxIdentifier(rest.substr(0, colon), names[i], text);
    *parts[i] = std::string(rest.substr(0, colon));
    rest = rest.substr(colon + 1);
  }
  if (rest.empty()) {
    throw Error::invalidInput("SELinux label " + quoted(text) + " is not user:role:type:level");
  }
  try {
    checkMlsRange(rest);
  } catch (const Error& e) {
    throw e.withContext("SELinux label " + quoted(text));
  }
  context.level = std::string(rest);
  return context;
}

std::string SelinuxContext::format() const { return user + ":" + role + ":" + type + ":" + level; }

SelinuxContext SelinuxContext::withCategories(const McsPair& pair) const {
  SelinuxContext result = *this;
  result.level = "s0:" + pair.format();
  return result;
}

SelinuxContext SelinuxContext::atSystemLow() const {
  SelinuxContext result = *this;
  result.level = "s0";
  return result;
}

std::optional<McsPair> SelinuxContext::mcsPair() const {
  // Exactly sN:cA,cB: no range, no category interval.
  if (level.find('-') != std::string::npos || level.find('.') != std::string::npos) {
    return std::nullopt;
  }
  auto colon = level.find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string_view cats = std::string_view(level).substr(colon + 1);
  auto comma = cats.find(',');
  if (comma == std::string_view::npos || cats.find(',', comma + 1) != std::string_view::npos) {
    return std::nullopt;
  }
  std::string_view a = cats.substr(0, comma);
  std::string_view b = cats.substr(comma + 1);
  if (a.size() < 2 || b.size() < 2 || a[0] != 'c' || b[0] != 'c') return std::nullopt;
  auto first = parseCanonicalNumber(a.substr(1));
  auto second = parseCanonicalNumber(b.substr(1));
  if (!first || !second || *first >= *second) return std::nullopt;
  return McsPair(*first, *second);
}

}  // namespace seclabel
