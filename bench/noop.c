/* The exec floor: a C program that does nothing, dynamically linked to libc
 * only, exec'd exactly as the hook is. */
int main(void) { return 0; }
