# shellcheck shell=bash
# The README's demo (tests/demo.sh runs the same steps in a lab of its own) in
# the suite: each step checks that it shows what the demo claims (the greeting
# of the internet with the masqueraded address, the published port answering
# from the internet, DNS, the table, nothing left after down), so a demo that
# shows nothing fails here instead of ending "Demo done".
# shellcheck source=tests/lab/demo-steps.sh
. "$LAB_DIR/demo-steps.sh"
