// SPDX-License-Identifier: MIT
/* placeholder: the data-parallel training example (issue 6), being written */
#include <stdio.h>

int main(void)
{
	printf("dp_train: not written yet\n");
	return 0;
}
