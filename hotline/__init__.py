"""The hotline controller: config, Asterisk adapters (AMI, FastAGI), live state, web and CLI."""
