"""What the test suite shares: where things are (`paths`), the real emulator served on loopback
(`emulator`), writing manifests (`manifests`), and a generated project with helpers that plan and apply
through the real modules (`project`). Import it as `tests.support.<module>`."""
