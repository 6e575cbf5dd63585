// The child's side of putting a guest into its cgroup, between clone() and
// execve(): no instruction of the guest runs outside the cgroup.
//
// The launcher opens the cgroup's cgroup.procs for writing before it
// clones (GuestCgroup::openProcsForChild); the child writes "0" to it.
// Writing 0 to cgroup.procs moves the writer's whole thread group (the
// kernel reads pid 0 as "current"), the same on cgroup v1 (here in the
// devices hierarchy only) and v2. The permission check uses the
// credentials the file was opened with (root's).
#pragma once

namespace seclabel {

// Moves the calling process into the cgroup whose cgroup.procs is open at
// `procsFd`. Returns 0, or the errno of the failed write (the process is
// then still where it was and must not exec: _exit instead).
//
// Contract: allocation-free, async-signal-safe, never throws: safe in a
// fork() child and in a clone(CLONE_VM|CLONE_VFORK) child that shares the
// launcher's memory; touches only its own stack. Call it before the child
// drops its privileges and before it closes inherited fds (procsFd is
// O_CLOEXEC: execve closes it).
int enterCgroup(int procsFd) noexcept;

}  // namespace seclabel
