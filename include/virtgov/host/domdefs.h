/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The domains libvirt holds on this host, read from its own files rather
 * than from the inventory: the persistent definitions (qemu_config_dir,
 * /etc/libvirt/qemu/NAME.xml) and the running domains' status
 * (qemu_run_dir, /run/libvirt/qemu/NAME.xml, a transient domain's only
 * trace). The inventory knows a domain only once virtgov-inventoryd saw
 * it; these files know it as soon as libvirt does, and read with libvirtd
 * down. Root reads them (libvirt makes them 0600).
 */
#pragma once

#include <stddef.h>

/*
 * The files the domains name for QEMU to run or read (emulator, loader,
 * kernel, initrd), from every NAME.xml of config_dir (domain XML) and of
 * run_dir (status XML), each file at most max_bytes. A directory that does
 * not exist holds no domain. Anything else that cannot be read (a
 * directory, a file that is not a regular one or is too big, XML that
 * does not parse) is named in *ret_unread with why, never skipped in
 * silence: the files it names are missing from *ret_paths. Both are
 * NULL-ended, sorted, without duplicates, and the caller's (free with
 * config_strv_free). 0 or -ENOMEM.
 */
int domdefs_paths(const char *config_dir, const char *run_dir, size_t max_bytes, char ***ret_paths,
                  char ***ret_unread);
