#include "xml/input_check.h"

#include <cstdint>
#include <cstdio>
#include <string>

#include "core/error.h"

namespace seclabel {

namespace {

class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) {}

  void run() {
    checkEncoding();
    while (pos_ < text_.size()) {
      if (startsWith("<!--")) {
        skipPast("-->", "comment");
      } else if (startsWith("<![CDATA[")) {
        skipPast("]]>", "CDATA section");
      } else if (startsWith("<?")) {
        skipPast("?>", "processing instruction");
      } else if (startsWith("<!DOCTYPE") || startsWith("<!ENTITY")) {
        fail("document type declarations (DOCTYPE, ENTITY) are not allowed");
      } else if (text_[pos_] == '&') {
        checkReference();
      } else {
        ++pos_;
      }
    }
  }

 private:
  [[noreturn]] void fail(const std::string& reason) const {
    throw Error::invalidInput("line " + std::to_string(lineAt(pos_)) + ": " + reason);
  }

  std::size_t lineAt(std::size_t offset) const {
    std::size_t line = 1;
    for (std::size_t i = 0; i < offset && i < text_.size(); ++i) line += text_[i] == '\n';
    return line;
  }

  bool startsWith(std::string_view prefix) const {
    return text_.substr(pos_, prefix.size()) == prefix;
  }

  void skipPast(std::string_view terminator, const char* what) {
    auto end = text_.find(terminator, pos_ + 2);
    if (end == std::string_view::npos) fail(std::string("unterminated ") + what);
    pos_ = end + terminator.size();
  }

  static bool isXmlChar(uint32_t c) {
    return c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF) ||
           (c >= 0xE000 && c <= 0xFFFD) || (c >= 0x10000 && c <= 0x10FFFF);
  }

  // One pass over the bytes: well-formed UTF-8 and only characters XML 1.0
  // allows (no NUL, no C0 control other than tab, newline, carriage return).
  void checkEncoding() {
    std::size_t i = 0;
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // UTF-8 byte order mark
    while (i < text_.size()) {
      auto byte = static_cast<unsigned char>(text_[i]);
      uint32_t code = 0;
      std::size_t length = 0;
      if (byte < 0x80) {
        code = byte, length = 1;
      } else if ((byte & 0xE0) == 0xC0) {
        code = byte & 0x1F, length = 2;
      } else if ((byte & 0xF0) == 0xE0) {
        code = byte & 0x0F, length = 3;
      } else if ((byte & 0xF8) == 0xF0) {
        code = byte & 0x07, length = 4;
      } else {
        pos_ = i, fail("the document is not valid UTF-8");
      }
      if (i + length > text_.size()) pos_ = i, fail("the document is not valid UTF-8");
      for (std::size_t k = 1; k < length; ++k) {
        auto next = static_cast<unsigned char>(text_[i + k]);
        if ((next & 0xC0) != 0x80) pos_ = i, fail("the document is not valid UTF-8");
        code = (code << 6) | (next & 0x3F);
      }
      // Overlong forms would smuggle '<' or '&' past a byte-level check.
      static constexpr uint32_t kMinimum[] = {0, 0, 0x80, 0x800, 0x10000};
      if (code < kMinimum[length]) pos_ = i, fail("the document is not valid UTF-8");
      if (!isXmlChar(code)) {
        char hex[16];
        std::snprintf(hex, sizeof hex, "U+%04X", code);
        pos_ = i, fail(std::string("character ") + hex + " is not allowed in XML");
      }
      i += length;
    }
  }

  // At '&': only &lt; &gt; &amp; &apos; &quot; and &#N; / &#xH; naming a
  // character XML allows. pugixml would keep "&name;" as literal text.
  void checkReference() {
    auto semicolon = text_.find(';', pos_);
    std::size_t limit = 16;  // longest legal reference is "&#x10FFFF;" or so
    if (semicolon == std::string_view::npos || semicolon - pos_ > limit) {
      fail("'&' must start an entity or character reference (write &amp;)");
    }
    std::string_view name = text_.substr(pos_ + 1, semicolon - pos_ - 1);
    if (name == "lt" || name == "gt" || name == "amp" || name == "apos" || name == "quot") {
      pos_ = semicolon + 1;
      return;
    }
    if (!name.empty() && name[0] == '#') {
      bool hex = name.size() > 1 && name[1] == 'x';
      std::string_view digits = name.substr(hex ? 2 : 1);
      uint32_t code = 0;
      bool ok = !digits.empty() && digits.size() <= 8;
      for (char c : digits) {
        int value = -1;
        if (c >= '0' && c <= '9') value = c - '0';
        if (hex && c >= 'a' && c <= 'f') value = c - 'a' + 10;
        if (hex && c >= 'A' && c <= 'F') value = c - 'A' + 10;
        if (value < 0) {
          ok = false;
          break;
        }
        code = code * (hex ? 16 : 10) + static_cast<uint32_t>(value);
      }
      if (!ok || !isXmlChar(code)) {
        fail("character reference '&" + std::string(name) + ";' is not a character XML allows");
      }
      pos_ = semicolon + 1;
      return;
    }
    bool plainName = !name.empty();
    for (char c : name) {
      plainName = plainName && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.');
    }
    if (!plainName) fail("'&' must start an entity or character reference (write &amp;)");
    fail("entity '" + std::string(name) +
         "' is not defined (only &lt; &gt; &amp; &apos; &quot; are)");
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

}  // namespace

void checkDomainXmlInput(std::string_view text) {
  if (text.size() > kMaxDomainXmlSize) {
    throw Error::invalidInput("/: the document is " + std::to_string(text.size()) +
                              " bytes long, more than the limit of " +
                              std::to_string(kMaxDomainXmlSize) + " (16 MiB)");
  }
  Scanner(text).run();
}

}  // namespace seclabel
