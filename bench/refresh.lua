-- wrk script: refresh with one refresh token (POST /auth/session). The token is read from the
-- environment variable GUESTPASS_BENCH_REFRESH_TOKEN.
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("GUESTPASS_BENCH_REFRESH_TOKEN")
