"""Carrying out sync jobs: typed plans (`plan`), the delivery state machine of each
record (`mappings`), what makes a record recognisable (`identity`), settling records in
doubt (`recovery`), and the pipeline that runs a batch (`pipeline`)."""
