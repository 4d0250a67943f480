"""The namespace: S3 rules (buckets, objects, versions, listing) over metadata and blobs."""
