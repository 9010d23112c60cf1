"""Real servers on loopback serving corsware: the case table and each server's behaviour."""
