"""Encrypting Plaid access tokens at rest with ENCRYPTION_KEY (Fernet)."""
from cryptography.fernet import Fernet
from flask import current_app


def _fernet():
    return Fernet(current_app.config["ENCRYPTION_KEY"].encode())


def encrypt_token(token: str) -> bytes:
    return _fernet().encrypt(token.encode())


def decrypt_token(blob: bytes) -> str:
    return _fernet().decrypt(bytes(blob)).decode()
