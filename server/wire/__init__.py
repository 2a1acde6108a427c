"""What travels between the lab and its clients: the REST models, the WebSocket protocol, the frame
codec, and the views and problems both speak. It imports the engine's names, never the live
server."""
