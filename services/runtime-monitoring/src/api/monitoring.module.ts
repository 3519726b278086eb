import { Module } from '@nestjs/common';
import { AlertEvaluator } from '../alerts/alert-evaluator';
import { AlertsRepository } from '../alerts/alerts.repository';
import { AlertsService } from '../alerts/alerts.service';
import { CollectionConsumers } from '../collection/collection.consumers';
import { CollectionRepository } from '../collection/collection.repository';
import { BusinessMetrics } from '../exporter/business-metrics';
import { ExportService } from '../export/export.service';
import { FeedNotifier } from '../feed/feed-notifier';
import { FeedRepository } from '../feed/feed.repository';
import { FeedService } from '../feed/feed.service';
import { IndicatorsService } from '../indicators/indicators.service';
import { MetricsScraper } from '../platform/metrics-scraper';
import { SeriesRepository } from '../series/series.repository';
import { SeriesService } from '../series/series.service';
import { SeriesWorker } from '../series/series.worker';
import { MonitoringGrpcController } from './monitoring.grpc-controller';

/**
 * Runtime monitoring: collection from the streams and the services' metrics, the series and their
 * roll-ups, the feed, alerts, indicators, and the API over them.
 */
@Module({
  controllers: [MonitoringGrpcController],
  providers: [
    CollectionRepository,
    CollectionConsumers,
    SeriesRepository,
    SeriesWorker,
    SeriesService,
    MetricsScraper,
    FeedRepository,
    FeedNotifier,
    FeedService,
    ExportService,
    IndicatorsService,
    AlertsRepository,
    AlertEvaluator,
    AlertsService,
    BusinessMetrics,
  ],
})
export class MonitoringModule {}
