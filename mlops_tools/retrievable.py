"""Whether SageMaker can read what preflight found: an image ECR DescribeImages describes, a
model archive S3 ListObjectsV2 lists.

- **Archived images.** "Archived images cannot be pulled. Requests to pull the archived image
  will fail with a 404 error. While the image cannot be pulled, it can still be described using
  the describe-images command ... The image status will be shown as ARCHIVED" ("Archiving an
  image", Amazon ECR User Guide). A lifecycle rule may archive an old tag that a variant, a
  rollback or a retraining job still names: DescribeImages finds it, SageMaker cannot pull it.
  ``ImageDetail.imageStatus`` is ``ACTIVE``, ``ARCHIVED`` or ``ACTIVATING`` (botocore's ECR
  model); a restore (UpdateImageStorageClass to ``STANDARD``) goes through ``ACTIVATING``.
- **OCI manifests.** SageMaker has refused images whose manifest is OCI's ("Unsupported manifest
  media type application/vnd.oci.image.manifest.v1+json for image ... Ensure that valid manifest
  media type is used for specified image": aws/amazon-sagemaker-feedback#180, open; the OCI image
  index that ``docker buildx`` pushes with its default provenance attestation likewise,
  mlflow/mlflow#13834). No AWS reference page states it, so such an image is a warning with the
  rebuild that gives a Docker v2 manifest, not a failure.
- **Archived model archives.** "Amazon S3 objects that are stored in the S3 Glacier Flexible
  Retrieval or S3 Glacier Deep Archive storage classes are not immediately accessible. To access
  an object in these storage classes, you must restore a temporary copy" ("Restoring an archived
  object", Amazon S3 User Guide); "Objects stored in the S3 Glacier Instant Retrieval storage
  class are not archived" ("Working with archived objects"). ListObjectsV2 gives each object's
  ``StorageClass``; the Intelligent-Tiering archive tiers (opt-in) do not show there and are not
  checked. SageMaker
  reads the archive when it creates the model and on every instance it adds later, so even a
  restored copy, which expires, does not serve for long: the archive is published again, in
  STANDARD, under a new key (model keys are written once).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

ARCHIVED, ACTIVATING = "ARCHIVED", "ACTIVATING"
OCI_MEDIA_TYPE_PREFIX = "application/vnd.oci."
REBUILD = (
    "docker buildx build --provenance=false --output type=docker "
    "(or type=image,oci-mediatypes=false)"
)


def unpullable(detail: Mapping[str, Any], repository: str, region: str) -> str | None:
    """Why SageMaker cannot pull the image ``detail`` describes (ECR's ImageDetail), or None."""
    status = detail.get("imageStatus")
    if status == ARCHIVED:
        digest = detail.get("imageDigest", "<digest>")
        return (
            "is archived, and ECR refuses to pull an archived image: restore it (aws ecr "
            f"update-image-storage-class --region {region} --repository-name {repository} "
            f"--image-id imageDigest={digest} --target-storage-class STANDARD), or push it again"
        )
    if status == ACTIVATING:
        return "is being restored from ECR's archive: pulls fail until DescribeImages says ACTIVE"
    return None


def manifest_warning(detail: Mapping[str, Any]) -> str | None:
    """A warning when the image's manifest is one SageMaker has refused (OCI), or None."""
    media_type = str(detail.get("imageManifestMediaType") or "")
    if not media_type.startswith(OCI_MEDIA_TYPE_PREFIX):
        return None
    return (
        f"its manifest is {media_type}, which SageMaker's CreateModel has refused (\"Unsupported "
        f'manifest media type"); if the deploy fails so, push it again built with {REBUILD}'
    )


# StorageClass values (botocore's S3 model, ObjectStorageClass) that must be restored to be read.
ARCHIVAL_STORAGE_CLASSES = frozenset({"GLACIER", "DEEP_ARCHIVE"})


def archived_object(item: Mapping[str, Any]) -> str | None:
    """Why SageMaker cannot read the object ``item`` describes (a ListObjectsV2 entry), or None."""
    storage_class = item.get("StorageClass")
    if storage_class not in ARCHIVAL_STORAGE_CLASSES:
        return None
    return (
        f"is in S3's {storage_class} storage class, which cannot be read without a restore, and "
        "SageMaker reads it at every model create and scale-out: publish it again in STANDARD "
        "under a new key (aws s3api put-object --if-none-match '*' --storage-class STANDARD ...) "
        "and point the model at it"
    )
