#include <stdio.h>
int main(void) { puts("ringnity"); return 0; }
