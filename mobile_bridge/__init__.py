"""What native apps need from the relying party, as plain Python (no Flask, no SQL).

App origins (``android:apk-key-hash:…`` from signing-certificate fingerprints), the Apple
and Android association files built from the registered app clients, and the token
sessions apps end a sign-in with (JWT access tokens, DPoP proofs).
"""
