"""A helloworld.Greeter client in the shape of gRPC's canonical Python example.

It connects, calls SayHello(name="you") and prints the greeting. The
helloworld_pb2 modules are generated at test time from
proto/helloworld/helloworld.proto (see scripts/test-peers.sh) and found on
PYTHONPATH.

Usage: helloworld_client.py [--addr HOST:PORT]
"""

import argparse

import grpc
import helloworld_pb2
import helloworld_pb2_grpc


def run(addr):
    with grpc.insecure_channel(addr) as channel:
        stub = helloworld_pb2_grpc.GreeterStub(channel)
        response = stub.SayHello(helloworld_pb2.HelloRequest(name="you"), timeout=10)
    print("Greeter client received: " + response.message)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="localhost:50051", help="server address")
    run(parser.parse_args().addr)
