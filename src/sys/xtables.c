/* SPDX-License-Identifier: MIT */
/* (being written: issue 12) */
