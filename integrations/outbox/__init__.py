"""The outbox of sync jobs: written with the change that causes it (`enqueue`), taken by
one worker at a time (`claim`), ended with a recorded attempt (`outcomes`), and swept for
what a crash or a lost broker message left behind (`sweeper`)."""
