import sys, time; sys.path[:0]=["/work/main/custom_nodes"]
import numpy as np
from ugc_swap.core.sample_media import sample_face
from ugc_swap.core.faces.landmarks import FaceAnalyzer
img=sample_face("astronaut")
with FaceAnalyzer() as a:
    box=a.detect(img)[0].box
    t=time.time(); n=0
    while time.time()-t<float(sys.argv[1]):
        a.landmarks(img, box); a.detect(img); n+=1
print("mp iterations", n, file=sys.stderr)
