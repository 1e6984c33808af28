/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A fixture out-of-tree module: its .modinfo has no intree=Y (what a DKMS
 * or vendor build leaves), and a proprietary licence. */
__attribute__((section(".modinfo"), used, aligned(1)))
static const char vgoot_modinfo[] =
        "license=Proprietary\0"
        "name=vgoot\0"
        "vermagic=6.1.0-18-amd64 SMP preempt mod_unload modversions \0";

int vgoot_init(void);
int vgoot_init(void) {
        return 0;
}
