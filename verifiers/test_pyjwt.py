"""Access tokens checked by PyJWT with `cryptography` (PyPI), which no one here wrote, through
the JWKS of a real server (scripts/test.sh verifiers starts the servers and sets the URLs)."""

import base64
import hashlib
import hmac
import json
import os
import time
import unittest
import urllib.request

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

URL = os.environ["GUESTPASS_VERIFY_URL"]
ROTATE_URL = os.environ["GUESTPASS_ROTATE_PY_URL"]
OTHER_URL = os.environ["GUESTPASS_OTHER_URL"]
ADMIN_KEY = os.environ["GUESTPASS_ADMIN_KEY"]
APP = os.environ.get("GUESTPASS_VERIFY_APP", "verify-app")
TTL = 2.0


def post(url, body, headers=None):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    req.add_header("content-type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    with urllib.request.urlopen(req) as res:
        return json.loads(res.read() or b"null")


def anonymous_token(base=URL):
    return post(f"{base}/api/client/v2.0/app/{APP}/auth/providers/anon-user/login", {})["access_token"]


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def kid_of(token):
    return jwt.get_unverified_header(token)["kid"]


class Verifier:
    """What an app backend does: PyJWKClient caches the set and refetches it on an unknown kid."""

    def __init__(self, issuer):
        self.issuer = issuer
        self.client = jwt.PyJWKClient(f"{issuer}/.well-known/jwks.json", cache_jwk_set=True, lifespan=300)

    def verify(self, token):
        key = self.client.get_signing_key_from_jwt(token)
        return jwt.decode(token, key.key, algorithms=["ES256"], audience=APP, issuer=self.issuer,
                          options={"require": ["exp", "iat", "sub", "aud", "iss"]})


class Tokens(unittest.TestCase):
    def test_a_token_verifies(self):
        claims = Verifier(URL).verify(anonymous_token())
        self.assertEqual((claims["iss"], claims["aud"], claims["is_anonymous"]), (URL, APP, True))

    def test_a_tampered_token_is_refused(self):
        h, p, s = anonymous_token().split(".")
        claims = json.loads(base64.urlsafe_b64decode(p + "=="))
        claims["is_anonymous"] = False
        forged = ".".join([h, b64(json.dumps(claims).encode()), s])
        with self.assertRaises(jwt.InvalidSignatureError):
            Verifier(URL).verify(forged)

    def test_a_token_signed_by_an_unknown_kid_is_refused(self):
        claims = jwt.decode(anonymous_token(), options={"verify_signature": False})
        forged = jwt.encode(claims, ec.generate_private_key(ec.SECP256R1()), algorithm="ES256",
                            headers={"kid": "not-a-guestpass-key"})
        with self.assertRaises(jwt.PyJWKClientError):
            Verifier(URL).verify(forged)

    def test_alg_switched_to_hs256_with_the_public_key_as_secret_is_refused(self):
        token = anonymous_token()
        with urllib.request.urlopen(f"{URL}/.well-known/jwks.json") as res:
            jwk = json.loads(res.read())["keys"][0]
        public_pem = jwt.PyJWK(jwk).key.public_bytes(
            encoding=__import__("cryptography.hazmat.primitives.serialization", fromlist=["Encoding"]).Encoding.PEM,
            format=__import__("cryptography.hazmat.primitives.serialization", fromlist=["PublicFormat"]).PublicFormat.SubjectPublicKeyInfo,
        )
        header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid_of(token)}).encode())
        signing_input = f"{header}.{token.split('.')[1]}"
        for secret in (public_pem, json.dumps(jwk).encode()):
            mac = b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())
            with self.assertRaises(jwt.InvalidAlgorithmError):
                Verifier(URL).verify(f"{signing_input}.{mac}")

    def test_an_expired_token_is_refused(self):
        token = anonymous_token()
        Verifier(URL).verify(token)
        time.sleep(TTL + 1.1)
        with self.assertRaises(jwt.ExpiredSignatureError):
            Verifier(URL).verify(token)

    def test_a_token_from_another_guestpass_server_is_refused(self):
        with self.assertRaises(jwt.PyJWKClientError):
            Verifier(URL).verify(anonymous_token(OTHER_URL))

    def test_rotation_old_tokens_until_expiry_new_kid_old_key_leaves_cached_set_refetched(self):
        cached = Verifier(ROTATE_URL)
        before = anonymous_token(ROTATE_URL)
        cached.verify(before)
        new_kid = post(f"{ROTATE_URL}/api/admin/signing-keys", {}, {"authorization": f"Bearer {ADMIN_KEY}"})["kid"]
        after = anonymous_token(ROTATE_URL)
        self.assertEqual(kid_of(after), new_kid)
        self.assertNotEqual(kid_of(before), new_kid)
        cached.verify(after)  # unknown kid in the cached set: PyJWKClient refetches
        cached.verify(before)
        time.sleep(TTL + 1.1)
        with self.assertRaises(jwt.ExpiredSignatureError):
            cached.verify(before)
        kids = None
        for _ in range(40):
            with urllib.request.urlopen(f"{ROTATE_URL}/.well-known/jwks.json") as res:
                kids = [k["kid"] for k in json.loads(res.read())["keys"]]
            if kids == [new_kid]:
                break
            time.sleep(0.25)
        self.assertEqual(kids, [new_kid], "the old key left the set after its tokens expired")
        cached.verify(anonymous_token(ROTATE_URL))


if __name__ == "__main__":
    unittest.main()
