# chanjiao service image: API + UI (chanjiao serve) or the allocation worker (chanjiao worker).
FROM python:3.11-slim-bookworm AS build
WORKDIR /src
# The locked dependencies first (every package pinned with its hash), in their own layer so that a
# change to the code does not reinstall them; then the project alone, built by the locked setuptools.
COPY requirements/runtime.txt ./requirements/
RUN python -m venv /opt/chanjiao \
    && /opt/chanjiao/bin/pip install --no-cache-dir --require-hashes -r requirements/runtime.txt
COPY pyproject.toml README.md alembic.ini ./
COPY app ./app
COPY matching ./matching
COPY migrations ./migrations
RUN /opt/chanjiao/bin/pip install --no-cache-dir --no-deps --no-build-isolation .

FROM python:3.11-slim-bookworm
RUN groupadd --system --gid 10001 chanjiao \
    && useradd --system --uid 10001 --gid chanjiao --home-dir /srv/chanjiao --create-home chanjiao
COPY --from=build /opt/chanjiao /opt/chanjiao
COPY --chown=chanjiao:chanjiao alembic.ini /srv/chanjiao/
COPY --chown=chanjiao:chanjiao migrations /srv/chanjiao/migrations
WORKDIR /srv/chanjiao
USER 10001
ENV PATH="/opt/chanjiao/bin:${PATH}" \
    PYTHONUNBUFFERED=1 \
    CHANJIAO_DATABASE_URL="sqlite:////srv/chanjiao/var/chanjiao.db"
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s CMD ["python", "-c", "import urllib.request,sys; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/health').status == 200 else 1)"]
CMD ["sh", "-c", "chanjiao db upgrade && chanjiao serve --host 0.0.0.0 --port 8000"]
