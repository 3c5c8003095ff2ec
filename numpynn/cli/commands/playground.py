"""``numpynn playground``: serve the web playground locally and open it in the browser.

    numpynn playground                       # http://127.0.0.1:8000/, opens a browser tab
    numpynn playground --port 0 --no-browser # a free port; the URL is printed
    numpynn playground --host 0.0.0.0        # warns: anyone on the network can use it
"""
import warnings

LOOPBACK = ("127.0.0.1", "localhost", "::1")  # hosts only this machine reaches


def add_arguments(parser):
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: 127.0.0.1, this machine only)")
    parser.add_argument("--port", type=int, default=8000,
                        help="port to listen on (default: 8000; 0 picks a free one)")
    parser.add_argument("--no-browser", action="store_true",
                        help="print the URL without opening a browser")


def run(args):
    from numpynn._helpers.extras import require

    for module in ("starlette", "uvicorn", "websockets"):
        require(module, "numpynn playground", extra="playground")
    from numpynn.playground.app import bind, serve, url_of

    if not 0 <= args.port <= 65535:
        raise ValueError(f"--port must be in [0, 65535]; got {args.port}")
    if args.host not in LOOPBACK:
        warnings.warn(f"--host {args.host}: anyone who can reach this machine on that network "
                      "can use the playground (and its CPU)\nhelp: leave out --host to serve "
                      "this machine only")
    sock = bind(args.host, args.port)
    url = url_of(sock)
    print(f"numpynn playground: {url} (Ctrl-C stops it)", flush=True)
    if not args.no_browser:
        import threading
        import webbrowser

        threading.Timer(0.5, webbrowser.open, [url]).start()
    serve(sock)
    return 0
