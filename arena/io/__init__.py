"""Files in and out: vote files, dataset export, backups, clip import and checks, paddock.toml."""
