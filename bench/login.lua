-- wrk script: anonymous logins (each one creates a user, a session and an identity).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"options":{"device":{"sdkVersion":"bench","platform":"wrk"}}}'
