#!/usr/bin/env python3
"""Writes the kept seed corpus (corpus/<target>/): inputs taken from the server's tests, plus
custom-token JWTs signed with the fuzz secret (src/lib.rs) so the fuzzer starts past the
signature check. Re-run after changing the seeds; libFuzzer reads every file in each folder."""
import base64, hashlib, hmac, json, os

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = b"guestpass-fuzz-custom-jwt-secret-0123456789"
EXP_2100 = 4102444800


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(claims, header=None, secret=SECRET) -> str:
    head = b64(json.dumps(header or {"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


ISS = "https://backend.example"
JWTS = [
    jwt({"sub": "ext-42", "exp": EXP_2100, "iss": ISS, "name": "Ada", "email": "ada@example.com"}),
    jwt({"sub": "u1", "exp": EXP_2100, "iss": ISS, "iat": 1700000000, "nbf": 1700000000}),
    jwt({"sub": "u1", "exp": EXP_2100, "iss": [ISS, "x"]}),
    jwt({"sub": "u1", "exp": 1000000000, "iss": ISS}),
    jwt({"sub": "u1", "exp": EXP_2100, "iss": ISS, "aud": "my-backend", "picture": 1, "min_age": 18}),
    jwt({"sub": "u1", "exp": EXP_2100}, secret=b"another-secret-that-is-32-bytes-long!"),
    b64(b'{"alg":"none","typ":"JWT"}') + "." + b64(json.dumps({"sub": "admin", "exp": EXP_2100}).encode()) + ".",
]
SEEDS = {
    "access_token": [
        "VALID", "VALIDx", "Bearer null", "Bearer undefined", "bearer ", "Basic dXNlcjpwYXNz",
        "Bearer " + JWTS[0], "Bearer eyJhbGciOiJIUzI1NiJ9.e30.", "Bearer a.b.c",
    ],
    "refresh_token": ["VALID", "VALID=", "Bearer null", "Bearer " + "A" * 43, "Bearer  x", "Bearer " + JWTS[1]],
    "custom_jwt": JWTS + ["garbage", "a.b.c", "..", "eyJhbGciOiJIUzI1NiJ9..sig"],
    "email": [
        "alice@example.com", " Alice@Example.COM ", "alice+news@example.com", "a@bücher.de",
        "Ａｌｉｃｅ＠Ｅｘａｍｐｌｅ.ｃｏｍ", "ali\u200bce@example.com", "ali\u00adce@example.com",
        "zoe\u0308@example.com", "\ufb01sh@example.com", "a@" + "\u3300" * 30, "a b@c.d", "a@@b", "a@.b",
        "\u0130stanbul@example.com", "ΑΣ@example.com",
    ],
    "login_body": [
        "\x00" + json.dumps({"token": JWTS[0]}),
        "\x02" + json.dumps({"token": JWTS[1], "options": {"device": {"deviceId": {"$oid": "650000000000000000000001"}}}}),
        "\x00" + json.dumps({"token": JWTS[3], "options": {"device": {"deviceId": "650000000000000000000002"}}}),
        "\x01" + json.dumps({"username": "alice@example.com", "password": "password1"}),
        "\x03" + json.dumps({"username": "Alice@Example.com", "password": "password1", "options": {"device": {"sdkVersion": "test"}}}),
        "\x01" + json.dumps({"username": "ali\u200bce@example.com", "password": "x"}),
        "\x00{}", "\x01", "\x00{\"token\": 5}", "\x00[1,2", "\x01{\"options\":{\"device\":{\"deviceId\":{\"$oid\":7}}}}",
    ],
    "admin_query": [
        "page=1", "page=3&per_page=10", "page=18446744073709551615", "page=9223372036854775807",
        "page=368934881474191034", "per_page=101", "page=0", "page=-1", "page=x&per_page=", "&&page&=1",
    ],
}

for target, seeds in SEEDS.items():
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for i, seed in enumerate(seeds):
        with open(os.path.join(folder, f"seed-{i:02}"), "wb") as f:
            f.write(seed.encode())
print("seeds written:", {t: len(s) for t, s in SEEDS.items()})
