/* SPDX-License-Identifier: MIT */
#include "nsgate/cli.h"

int main(int argc, char *argv[])
{
	return cli_main(argc, argv);
}
