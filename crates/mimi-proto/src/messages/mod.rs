//! Protocol bodies of draft-ietf-mimi-protocol-06 §5, one module per endpoint.
