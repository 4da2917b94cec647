pytest_plugins = ["salesforce_emulator.pytest_plugin"]
