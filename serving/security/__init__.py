"""Who may talk to the server: TLS / mutual TLS (`--ssl_config_file`) and bearer tokens
(`--auth_token_file`), for the gRPC port and the REST port alike."""
