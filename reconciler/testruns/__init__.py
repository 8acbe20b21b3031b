"""Assistant test runs: start them, wait for their verdicts, report them (text and JUnit XML)."""
