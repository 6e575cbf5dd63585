#include "process/proc_status.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstring>
#include <initializer_list>

namespace seclabel {

namespace {

bool isBlank(char c) { return c == ' ' || c == '\t'; }

// Copies at most size-1 bytes of [text, text+length) and terminates.
void copyTruncated(char* out, size_t size, const char* text, size_t length) {
  size_t n = length < size - 1 ? length : size - 1;
  std::memcpy(out, text, n);
  out[n] = '\0';
}

void reportMismatch(StatusMismatch* mismatch, const char* field,
                    const char* value, size_t length) {
  if (mismatch == nullptr) return;
  copyTruncated(mismatch->field, sizeof mismatch->field, field,
                std::strlen(field));
  if (value == nullptr) {
    copyTruncated(mismatch->seen, sizeof mismatch->seen, "(missing)", 9);
  } else {
    copyTruncated(mismatch->seen, sizeof mismatch->seen, value, length);
  }
}

// Parses one unsigned number of `base` from [*cursor, end), skipping blanks
// before it. False when there is none or it overflows 64 bits.
bool nextNumber(const char** cursor, const char* end, unsigned base,
                uint64_t* value) {
  const char* p = *cursor;
  while (p < end && isBlank(*p)) ++p;
  uint64_t result = 0;
  const char* digits = p;
  for (; p < end; ++p) {
    unsigned digit;
    if (*p >= '0' && *p <= '9') {
      digit = unsigned(*p - '0');
    } else if (base == 16 && *p >= 'a' && *p <= 'f') {
      digit = unsigned(*p - 'a' + 10);
    } else if (base == 16 && *p >= 'A' && *p <= 'F') {
      digit = unsigned(*p - 'A' + 10);
    } else {
      break;
    }
    if (digit >= base || result > (UINT64_MAX - digit) / base) return false;
    result = result * base + digit;
  }
  if (p == digits) return false;
  *cursor = p;
  *value = result;
  return true;
}

bool onlyBlanksLeft(const char* p, const char* end) {
  while (p < end && isBlank(*p)) ++p;
  return p == end;
}

// "Uid:" / "Gid:": real, effective, saved set and filesystem id, all `id`.
bool allFourAre(const char* value, size_t length, uint64_t id) {
  const char* p = value;
  const char* end = value + length;
  for (int i = 0; i < 4; ++i) {
    uint64_t seen;
    if (!nextNumber(&p, end, 10, &seen) || seen != id) return false;
  }
  return onlyBlanksLeft(p, end);
}

// "Groups:": exactly the expected set. The kernel sorts the list it is given
// (groups_sort), so only membership and count are compared.
bool groupsAre(const char* value, size_t length, const gid_t* groups,
               size_t count) {
  const char* p = value;
  const char* end = value + length;
  size_t seenCount = 0;
  uint64_t seen;
  while (nextNumber(&p, end, 10, &seen)) {
    bool expected = false;
    for (size_t i = 0; i < count; ++i) {
      if (groups[i] == seen) expected = true;
    }
    if (!expected) return false;
    ++seenCount;
  }
  return seenCount == count && onlyBlanksLeft(p, end);
}

bool hexIsZero(const char* value, size_t length) {
  const char* p = value;
  const char* end = value + length;
  uint64_t seen;
  return nextNumber(&p, end, 16, &seen) && seen == 0 && onlyBlanksLeft(p, end);
}

bool decimalIs(const char* value, size_t length, uint64_t want) {
  const char* p = value;
  const char* end = value + length;
  uint64_t seen;
  return nextNumber(&p, end, 10, &seen) && seen == want &&
         onlyBlanksLeft(p, end);
}

}  // namespace

int readStatusFile(const char* path, char* buffer, size_t size) noexcept {
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  size_t used = 0;
  int result = 0;
  for (;;) {
    if (used == size - 1) {
      // A status that does not fit is never half-checked.
      result = ENOBUFS;
      break;
    }
    ssize_t n = ::read(fd, buffer + used, size - 1 - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = errno;
      break;
    }
    if (n == 0) break;
    used += size_t(n);
  }
  ::close(fd);
  buffer[used] = '\0';
  return result;
}

const char* findStatusField(const char* text, const char* name,
                            size_t* length) noexcept {
  size_t nameLength = std::strlen(name);
  for (const char* line = text; *line != '\0';) {
    const char* lineEnd = std::strchr(line, '\n');
    if (lineEnd == nullptr) lineEnd = line + std::strlen(line);
    if (std::strncmp(line, name, nameLength) == 0 && line[nameLength] == ':') {
      const char* value = line + nameLength + 1;
      while (value < lineEnd && isBlank(*value)) ++value;
      *length = size_t(lineEnd - value);
      return value;
    }
    line = *lineEnd == '\n' ? lineEnd + 1 : lineEnd;
  }
  return nullptr;
}

bool statusMatches(const char* text, const ExpectedCredentials& expected,
                   StatusMismatch* mismatch) noexcept {
  size_t length = 0;
  const char* value = findStatusField(text, "Uid", &length);
  if (value == nullptr || !allFourAre(value, length, expected.uid)) {
    reportMismatch(mismatch, "Uid", value, length);
    return false;
  }
  value = findStatusField(text, "Gid", &length);
  if (value == nullptr || !allFourAre(value, length, expected.gid)) {
    reportMismatch(mismatch, "Gid", value, length);
    return false;
  }
  value = findStatusField(text, "Groups", &length);
  if (value == nullptr ||
      !groupsAre(value, length, expected.groups, expected.groupCount)) {
    reportMismatch(mismatch, "Groups", value, length);
    return false;
  }
  for (const char* cap : {"CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"}) {
    value = findStatusField(text, cap, &length);
    if (value == nullptr || !hexIsZero(value, length)) {
      reportMismatch(mismatch, cap, value, length);
      return false;
    }
  }
  value = findStatusField(text, "NoNewPrivs", &length);
  if (value == nullptr ||
      !decimalIs(value, length, expected.noNewPrivs ? 1 : 0)) {
    reportMismatch(mismatch, "NoNewPrivs", value, length);
    return false;
  }
  return true;
}

}  // namespace seclabel
