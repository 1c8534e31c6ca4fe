"""The media plane: forwards RTP from publishers to subscribers without decoding it.

Only this package constructs ``RTCPeerConnection`` objects; everything above it uses the
handles exported here.
"""

from core.media.config import IceServer, MediaConfig
from core.media.endpoint import Endpoint
from core.media.engine import MediaEngine
from core.media.publisher import Publisher
from core.media.subscriber import Subscriber
from core.media.types import CodecInfo, LocalCandidate, PacketSink, TrackInfo, TrackStats

__all__ = [
    "CodecInfo",
    "Endpoint",
    "IceServer",
    "LocalCandidate",
    "MediaConfig",
    "MediaEngine",
    "PacketSink",
    "Publisher",
    "Subscriber",
    "TrackInfo",
    "TrackStats",
]
