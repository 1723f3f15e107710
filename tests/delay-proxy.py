#!/usr/bin/env python3
"""A TCP proxy on 127.0.0.1 that holds every chunk for DELAY ms each way,
so a Gaggle's Workers can sit a long round trip from their Manager.
    delay-proxy.py LISTEN_PORT TARGET_PORT DELAY_MS [UP_MS AFTER_S]
With UP_MS and AFTER_S, what the client sends AFTER_S seconds after it
connected is held UP_MS more: a Manager that reads a Worker late.  A
client gone while the server still sends resets the server's connection,
and what was held for the server is lost, as when a closed socket answers
with a reset what the server had not read yet.
Prints "ready" once listening."""
import asyncio
import sys

listen_port, target_port, delay = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]) / 1000
up_delay, up_after = (int(sys.argv[4]) / 1000, float(sys.argv[5])) if len(sys.argv) > 5 else (0, 0)


async def pipe(reader, writer, extra=0, after=0, broken=None):
    """Each chunk goes DELAY ms after it came, in order, as on a long link:
    chunks that come together are not delayed one after the other.
    broken() runs when the writer's side is gone."""
    loop = asyncio.get_running_loop()
    queue = asyncio.Queue()

    async def send():
        try:
            while (item := await queue.get()) is not None:
                due, data = item
                await asyncio.sleep(max(0, due - loop.time()))
                writer.write(data)
                await writer.drain()
        except ConnectionError:
            if broken:
                broken()

    sender = asyncio.create_task(send())
    start = loop.time()
    try:
        while data := await reader.read(65536):
            late = extra if extra and loop.time() - start >= after else 0
            queue.put_nowait((loop.time() + delay + late, data))
        queue.put_nowait(None)
        await sender
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        sender.cancel()
        writer.close()


async def handle(client_reader, client_writer):
    try:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", target_port)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(pipe(client_reader, server_writer, up_delay, up_after),
                         pipe(server_reader, client_writer,
                              broken=server_writer.transport.abort))


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", listen_port)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
