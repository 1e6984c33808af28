/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixture module as the kernel build leaves one: a relocatable object
 * whose .modinfo holds "key=value\0" strings, intree=Y among them. Built
 * with the compiler at build time (tests/unit/meson.build); the tests
 * append the signature magic to make the signed variant. */
__attribute__((section(".modinfo"), used, aligned(1)))
static const char vgkvm_modinfo[] =
        "license=GPL\0"
        "intree=Y\0"
        "name=vgkvm\0"
        "vermagic=6.1.0-18-amd64 SMP preempt mod_unload modversions \0";

int vgkvm_init(void);
int vgkvm_init(void) {
        return 0;
}
