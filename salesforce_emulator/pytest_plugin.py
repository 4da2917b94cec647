"""pytest fixtures that serve the emulator over HTTPS for the test suite."""
