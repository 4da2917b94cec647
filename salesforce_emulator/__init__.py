"""An emulator of the Salesforce REST API, served over HTTPS, for tests and the demo.

It imports nothing from the portal: it is a Salesforce org seen from the outside.
"""
