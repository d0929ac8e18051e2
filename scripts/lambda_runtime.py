"""A stand-in for the AWS Lambda runtime API, enough to run a `bootstrap` binary locally: it hands
out the events of a JSON-lines file one by one and writes the function's answers, in order, to
another file; then it exits. For the Lambda end-to-end test.

Usage: lambda_runtime.py --port PORT --events EVENTS.jsonl --answers ANSWERS.jsonl
"""

import argparse
import http.server
import json
import threading

PREFIX = "/2018-06-01/runtime"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--events", required=True)
    parser.add_argument("--answers", required=True)
    args = parser.parse_args()
    with open(args.events) as f:
        events = [line for line in f.read().splitlines() if line.strip()]
    answers = {}
    lock = threading.Lock()
    done = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def reply(self, status, body=b"{}", headers=()):
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            if self.path != f"{PREFIX}/invocation/next":
                return self.reply(404)
            with lock:
                pending = [i for i in range(len(events)) if i not in handed]
                if pending:
                    handed.add(pending[0])
            if not pending:
                # Nothing left: keep the function waiting, as Lambda does between calls.
                done.wait()
                return self.reply(204)
            i = pending[0]
            self.reply(200, events[i].encode(), [
                ("Lambda-Runtime-Aws-Request-Id", str(i)),
                ("Lambda-Runtime-Deadline-Ms", "99999999999999"),
                ("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:123456789012:function:eden"),
                ("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000"),
            ])

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            parts = self.path[len(PREFIX):].strip("/").split("/")
            if len(parts) == 3 and parts[0] == "invocation" and parts[2] in ("response", "error"):
                with lock:
                    answers[parts[1]] = {"kind": parts[2], "body": json.loads(body or b"null")}
                    finished = len(answers) == len(events)
                self.reply(202)
                if finished:
                    with open(args.answers, "w") as f:
                        for i in range(len(events)):
                            f.write(json.dumps(answers[str(i)]) + "\n")
                    done.set()
                return
            self.reply(202)

    handed = set()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    done.wait()
    server.shutdown()


if __name__ == "__main__":
    main()
