#include "fdpass/fdset.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <set>

#include "core/error.h"
#include "secdriver/guest_path.h"

namespace seclabel {

DiskAccess parseDiskAccess(std::string_view word) {
  if (word == "ro") return DiskAccess::ReadOnly;
  if (word == "rw") return DiskAccess::ReadWrite;
  throw Error::invalidInput("access must be \"ro\" or \"rw\", not \"" +
                            std::string(word) + "\"");
}

std::string_view diskAccessName(DiskAccess access) {
  return access == DiskAccess::ReadOnly ? "ro" : "rw";
}

std::string_view fdModeName(FdMode mode) {
  return mode == FdMode::ReadOnly ? "rdonly" : "rdwr";
}

std::vector<FdMode> fdModesFor(DiskAccess access) {
  // Same order as QEMU's own -add-fd example: rdwr first, then rdonly.
  if (access == DiskAccess::ReadOnly) return {FdMode::ReadOnly};
  return {FdMode::ReadWrite, FdMode::ReadOnly};
}

std::string fdsetOpaque(FdMode mode, std::string_view path) {
  return std::string(fdModeName(mode)) + ":" + std::string(path);
}

namespace {

OpenedImage reopenAs(const GuestPath& found, FdMode mode) {
  OpenedImage image{mode, reopenGuestPath(found, mode == FdMode::ReadOnly ? O_RDONLY : O_RDWR),
                    {}};
  if (::fstat(image.fd.get(), &image.status) != 0)
    throw Error::fromErrno("cannot stat " + found.resolved, errno);
  return image;
}

// The one way an image is found for a guest (secdriver/guest_path.h), with
// its refusals as this layer reports them: whatever the reason, the answer
// to the guest is "permission denied", with the reason.
GuestPath findImage(const std::string& path) {
  try {
    return openGuestPath(path, GuestObject::Image);
  } catch (const Error& e) {
    if (e.code() == ExitCode::InvalidInput) throw Error(ExitCode::PermissionDenied, e.what(), e.errnum());
    if (e.errnum() == EACCES || e.errnum() == EPERM)
      throw Error(ExitCode::PermissionDenied, e.what(), e.errnum());
    throw;
  }
}

}  // namespace

OpenedImage openImage(const std::string& path, FdMode mode) {
  return reopenAs(findImage(path), mode);
}

std::vector<OpenedImage> openDiskImages(const std::string& path, DiskAccess access) {
  // Found once: every fd of the set is reopened from that one O_PATH fd, so
  // they are the same inode by construction.
  GuestPath found = findImage(path);
  std::vector<OpenedImage> images;
  for (FdMode mode : fdModesFor(access)) images.push_back(reopenAs(found, mode));
  return images;
}

UniqueFd inheritableCopy(int fd) {
  // F_DUPFD (not F_DUPFD_CLOEXEC) gives the lowest free fd >= 3 without
  // FD_CLOEXEC.
  UniqueFd copy(::fcntl(fd, F_DUPFD, 3));
  if (!copy) throw Error::fromErrno("cannot duplicate fd " + std::to_string(fd), errno);
  return copy;
}

namespace {

std::string doubleCommas(std::string_view text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == ',') out += ',';
  }
  return out;
}

std::string jsonStringEscape(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      case '\r': out += "\\r"; break;
      default:
        if (c < 0x20) {
          char buffer[8];
          std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
          out += buffer;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

constexpr std::string_view kPlaceholderOpen = "{disk:";

// How QEMU reads the argument a placeholder sits in, which decides how the
// text put there is escaped.
enum class ArgumentSyntax {
  // "{...}": QEMU parses an option value that starts with '{' as JSON
  // (-blockdev, -object, ...): the text goes into a JSON string.
  Json,
  // key=value,key=value (-drive file=...,if=virtio): QEMU's option parser
  // ends a value at a single ',' and reads ",," as one comma, so a path
  // with a comma would otherwise end the value and start an option of its
  // own ("/img/a,file.locking=off").
  OptionList,
  // Anything else (a bare "{disk:vda}", the value of -hda or -kernel, an
  // argument of another program): the text is the argument, as it is.
  Plain,
};

ArgumentSyntax syntaxOf(std::string_view arg) {
  // A leading placeholder is not JSON: the expanded argument starts with the
  // path, which is what QEMU looks at.
  if (!arg.empty() && arg.front() == '{' && arg.substr(0, kPlaceholderOpen.size()) != kPlaceholderOpen)
    return ArgumentSyntax::Json;
  // Outside the placeholders, any '=' or ',' makes it QEMU option syntax.
  // In doubt this doubles commas: a path QEMU cannot find fails safe, a
  // comma that splits a value does not.
  std::size_t pos = 0;
  for (;;) {
    std::size_t open = arg.find(kPlaceholderOpen, pos);
    std::string_view literal = arg.substr(pos, open == std::string_view::npos ? open : open - pos);
    if (literal.find_first_of("=,") != std::string_view::npos) return ArgumentSyntax::OptionList;
    if (open == std::string_view::npos) return ArgumentSyntax::Plain;
    std::size_t close = arg.find('}', open);
    if (close == std::string_view::npos) return ArgumentSyntax::Plain;  // refused by the caller
    pos = close + 1;
  }
}

std::string escapeFor(ArgumentSyntax syntax, std::string_view text) {
  switch (syntax) {
    case ArgumentSyntax::Json: return jsonStringEscape(text);
    case ArgumentSyntax::OptionList: return doubleCommas(text);
    case ArgumentSyntax::Plain: break;
  }
  return std::string(text);
}

}  // namespace

std::vector<std::string> addFdArguments(const CommandLineFdset& fdset) {
  std::vector<std::string> args;
  for (const CommandLineFd& fd : fdset.fds) {
    args.push_back("-add-fd");
    args.push_back("fd=" + std::to_string(fd.fd) + ",set=" +
                   std::to_string(fdset.fdsetId) + ",opaque=" + doubleCommas(fd.opaque));
  }
  return args;
}

std::string fdsetPath(int fdsetId) { return "/dev/fdset/" + std::to_string(fdsetId); }

std::vector<std::string> expandDiskPlaceholders(
    const std::vector<std::string>& argv,
    const std::map<std::string, DiskArgument>& disks) {
  std::vector<std::string> out;
  std::set<std::string> fdsetsAdded;
  for (std::size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (i == 0 || arg.find(kPlaceholderOpen) == std::string::npos) {
      out.push_back(arg);
      continue;
    }
    const ArgumentSyntax syntax = syntaxOf(arg);
    std::string expanded;
    std::vector<std::string> addFds;
    std::size_t pos = 0;
    while (true) {
      std::size_t open = arg.find(kPlaceholderOpen, pos);
      if (open == std::string::npos) {
        expanded.append(arg, pos);
        break;
      }
      std::size_t close = arg.find('}', open);
      if (close == std::string::npos) {
        throw Error::invalidInput("unterminated {disk:...} in argument \"" + arg + "\"");
      }
      expanded.append(arg, pos, open - pos);
      std::string target = arg.substr(open + kPlaceholderOpen.size(),
                                      close - open - kPlaceholderOpen.size());
      auto found = disks.find(target);
      if (found == disks.end()) {
        throw Error::invalidInput("argument \"" + arg + "\" names disk \"" + target +
                                  "\", which the domain does not have");
      }
      std::string source;
      if (const auto* path = std::get_if<std::string>(&found->second)) {
        source = *path;
      } else {
        const auto& fdset = std::get<CommandLineFdset>(found->second);
        source = fdsetPath(fdset.fdsetId);
        if (fdsetsAdded.insert(target).second) {
          for (std::string& a : addFdArguments(fdset)) addFds.push_back(std::move(a));
        }
      }
      expanded += escapeFor(syntax, source);
      pos = close + 1;
    }
    if (!addFds.empty()) {
      // Keep an option and its value together: "-drive" "file=...".
      std::size_t insertAt = out.size();
      if (arg.front() != '-' && out.size() > 1 && !out.back().empty() &&
          out.back().front() == '-') {
        insertAt = out.size() - 1;
      }
      out.insert(out.begin() + static_cast<std::ptrdiff_t>(insertAt), addFds.begin(),
                 addFds.end());
    }
    out.push_back(std::move(expanded));
  }
  return out;
}

}  // namespace seclabel
