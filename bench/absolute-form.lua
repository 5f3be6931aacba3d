-- absolute-form.lua -- wrk script used by bench/run.sh
--
-- Two jobs:
--
-- 1. Forward-proxy mode. If the environment variable ORIGIN_URL is set
--    (e.g. ORIGIN_URL=http://127.0.0.1:8080/1k), wrk still *connects* to
--    the address given on its command line (the proxy), but every request
--    it sends is in absolute-form, the way a browser talks to a forward
--    proxy:
--
--        GET http://127.0.0.1:8080/1k HTTP/1.1
--        Host: 127.0.0.1:8080
--
--    Without ORIGIN_URL, wrk sends ordinary origin-form requests
--    ("GET /1k HTTP/1.1") to the URL on its command line; that is what the
--    "direct" (nginx) and reverse-proxy (HAProxy) targets use.
--
-- 2. Machine-readable results. done() prints one line starting with
--    "BENCH_RESULT" that run.sh parses, so we never have to scrape wrk's
--    human-oriented output (whose units change between us/ms/s).
--
-- 3. Browser-shaped requests. With REQUEST_FIELDS=browser, every request
--    (to every target alike) also carries the dozen fields a browser sends
--    with a page request, about 600 bytes: User-Agent, Accept, Cookie, ...
--    The default is wrk's bare request (Host only).
--
-- The request is built once per thread by wrk's default request() from
-- wrk.path / wrk.headers, so the script adds no per-request Lua overhead.

local origin = os.getenv("ORIGIN_URL")

if origin ~= nil and origin ~= "" then
   -- Split "http://host:port/path" into the authority (for Host:) and check
   -- the shape; the request line itself carries the full URL verbatim.
   local authority = origin:match("^http://([^/]+)")
   if authority == nil then
      error("ORIGIN_URL must look like http://host:port/path, got: " .. origin)
   end
   wrk.path = origin
   wrk.headers["Host"] = authority
end

local fields = os.getenv("REQUEST_FIELDS")
if fields == "browser" then
   wrk.headers["User-Agent"] = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
   wrk.headers["Accept"] = "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"
   wrk.headers["Accept-Language"] = "en-GB,en;q=0.9,fr;q=0.8"
   wrk.headers["Accept-Encoding"] = "gzip, deflate"
   wrk.headers["Referer"] = "http://127.0.0.1/index.html"
   wrk.headers["Cookie"] = "session=0123456789abcdef0123456789abcdef; theme=dark; consent=yes"
   wrk.headers["Upgrade-Insecure-Requests"] = "1"
   wrk.headers["Cache-Control"] = "max-age=0"
   wrk.headers["Sec-Fetch-Dest"] = "document"
   wrk.headers["Sec-Fetch-Mode"] = "navigate"
   wrk.headers["Sec-Fetch-Site"] = "same-origin"
elseif fields ~= nil and fields ~= "" and fields ~= "minimal" then
   error("REQUEST_FIELDS must be minimal or browser, got: " .. fields)
end

function done(summary, latency, requests)
   local e = summary.errors
   local secs = summary.duration / 1e6
   io.write(string.format(
      "BENCH_RESULT requests=%d duration_s=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f " ..
      "max_ms=%.3f bytes=%d err_connect=%d err_read=%d err_write=%d " ..
      "err_status=%d err_timeout=%d\n",
      summary.requests, secs, summary.requests / secs,
      latency:percentile(50) / 1000, latency:percentile(99) / 1000,
      latency.max / 1000, summary.bytes,
      e.connect, e.read, e.write, e.status, e.timeout))
end
