"""A helloworld.Greeter server in the shape of gRPC's canonical Python example.

It answers SayHello with "Hello, NAME!" and SayHelloAgain with
"Hello again, NAME!" from a pool of ten worker threads, on a loopback address,
printing "listening on HOST:PORT" once it serves. The helloworld_pb2 modules
are generated at test time from proto/helloworld/helloworld.proto (see
scripts/test-peers.sh) and found on PYTHONPATH. It stops on SIGTERM.

Usage: helloworld_server.py [--addr HOST:PORT]
"""

import argparse
import signal
import sys
from concurrent import futures

import grpc
import helloworld_pb2
import helloworld_pb2_grpc


class Greeter(helloworld_pb2_grpc.GreeterServicer):
    def SayHello(self, request, context):
        return helloworld_pb2.HelloReply(message="Hello, %s!" % request.name)

    def SayHelloAgain(self, request, context):
        return helloworld_pb2.HelloReply(message="Hello again, %s!" % request.name)


def serve(addr):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=10))
    helloworld_pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
    port = server.add_insecure_port(addr)
    server.start()
    host = addr.rsplit(":", 1)[0]
    print("listening on %s:%d" % (host, port), flush=True)
    signal.signal(signal.SIGTERM, lambda *_: server.stop(grace=1))
    server.wait_for_termination()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:0", help="address to listen on (port 0: any free port)")
    serve(parser.parse_args().addr)
    sys.exit(0)
