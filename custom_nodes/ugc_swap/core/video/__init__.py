"""Video files and bitstreams: probing, frame streams through ffmpeg, YUV patches, GOP copying, mask videos."""
