#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that holds every chunk for DELAY ms each way,
so a Gaggle's Workers can sit a long round trip from their Manager.
    delay-proxy.py LISTEN_PORT TARGET_PORT DELAY_MS
Prints "ready" once listening."""
import asyncio
import sys

listen_port, target_port, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000


async def pipe(reader, writer):
    loop = asyncio.get_running_loop()
    try:
        while data := await reader.read(65536):
            due = loop.time() + delay  # keep order: each chunk waits its own delay
            await asyncio.sleep(max(0, due - loop.time()))
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer), pipe(server_reader, client_writer))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
